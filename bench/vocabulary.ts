// Word lists the synthetic episodes are built from: fashion and lifestyle terms, so filters and
// full-text search hit realistic, unevenly distributed values.

export const COLORS = [
  'black', 'white', 'ivory', 'cream', 'beige', 'camel', 'nude', 'blush', 'pink', 'red', 'burgundy', 'emerald', 'sage',
  'olive', 'navy', 'cobalt', 'lavender', 'lilac', 'mustard', 'rust', 'chocolate', 'grey', 'silver', 'gold', 'champagne',
] as const;

export const BRANDS = [
  'Christian Louboutin', 'Gucci', 'Prada', 'Chanel', 'Dior', 'Saint Laurent', 'Valentino', 'Versace', 'Balenciaga',
  'Bottega Veneta', 'Fendi', 'Hermes', 'Jimmy Choo', 'Manolo Blahnik', 'Stuart Weitzman', 'Zara', 'Mango', 'Reformation',
  'Ganni', 'Staud', 'Aritzia', 'Free People', 'Anthropologie', 'Sam Edelman', 'Steve Madden', 'Coach', 'Kate Spade',
  'Michael Kors', 'Tory Burch', 'Aldo',
] as const;

/** Shoe brands are skewed: a few designer labels dominate, as on a real styling channel. */
export const SHOE_BRAND_WEIGHTS: readonly (readonly [string, number])[] = [
  ['Christian Louboutin', 10], ['Gucci', 6], ['Jimmy Choo', 6], ['Manolo Blahnik', 5], ['Stuart Weitzman', 5],
  ['Steve Madden', 5], ['Sam Edelman', 5], ['Aldo', 4], ['Zara', 4], ['Prada', 3], ['Saint Laurent', 3], ['Valentino', 3],
  ['Chanel', 2], ['Dior', 2], ['Tory Burch', 2], ['Mango', 2], ['Coach', 2], ['Kate Spade', 2], ['Michael Kors', 2],
  ['Versace', 1], ['Balenciaga', 1], ['Bottega Veneta', 1], ['Fendi', 1], ['Hermes', 1], ['Reformation', 1],
  ['Ganni', 1], ['Staud', 1], ['Aritzia', 1], ['Free People', 1], ['Anthropologie', 1],
];

export const TAGS = [
  'fashion', 'lifestyle', 'tutorial', 'styling', 'wardrobe', 'closet-tour', 'haul', 'try-on', 'ootd', 'grwm', 'makeup',
  'skincare', 'hair', 'beauty', 'travel', 'vlog', 'brunch', 'date-night', 'workwear', 'office', 'casual', 'streetwear',
  'luxury', 'designer', 'thrift', 'sustainable', 'capsule', 'minimalist', 'vintage', 'y2k', 'spring', 'summer', 'fall',
  'winter', 'holiday', 'wedding', 'gala', 'red-carpet', 'party', 'nye', 'resort', 'swim', 'athleisure', 'denim',
  'knitwear', 'accessories', 'jewelry', 'shoes', 'handbags', 'heels', 'sneakers', 'boots', 'petite', 'plus-size',
  'budget', 'splurge', 'review', 'unboxing', 'collab', 'behind-the-scenes',
] as const;

export const TOPS = ['silk blouse', 'cropped cardigan', 'ribbed tank', 'oversized blazer', 'linen shirt', 'corset top', 'cashmere sweater', 'wrap top', 'turtleneck', 'graphic tee'] as const;
export const BOTTOMS = ['wide-leg trousers', 'pleated midi skirt', 'straight-leg jeans', 'leather mini skirt', 'tailored shorts', 'cargo pants', 'satin slip skirt', 'flared jeans'] as const;
export const DRESSES = ['slip dress', 'wrap dress', 'sequin gown', 'shirt dress', 'bodycon midi dress', 'knit maxi dress', 'tulle ball gown', 'linen sundress'] as const;
export const JUMPSUITS = ['wide-leg jumpsuit', 'utility boilersuit', 'tailored jumpsuit'] as const;
export const SHOE_STYLES = ['pointed toe pumps', 'strappy sandals', 'ankle boots', 'knee-high boots', 'ballet flats', 'loafers', 'platform heels', 'mules', 'white sneakers', 'slingback heels'] as const;
export const PURSE_STYLES = ['clutch', 'tote', 'crossbody', 'shoulder bag', 'top-handle bag', 'bucket bag', 'mini bag', 'belt bag'] as const;
export const PATTERNS = ['solid', 'floral', 'houndstooth', 'pinstripe', 'polka dot', 'animal print', 'plaid', 'sequined', 'tie-dye'] as const;
export const SIZES = ['XS', 'S', 'M', 'L', 'XL', '0', '2', '4', '6', '8', '10', '12'] as const;
export const JEWELRY = ['gold hoops', 'pearl studs', 'layered chains', 'tennis bracelet', 'signet ring', 'statement earrings', 'diamond pendant', 'stacked bangles'] as const;

export const OCCASIONS = ['brunch', 'date night', 'the office', 'a weekend getaway', 'a rooftop party', 'a wedding', 'a gallery opening', 'a beach day', 'a holiday dinner', 'fashion week'] as const;
/** Rare words, so full-text search has selective terms as well as common ones. */
export const RARE_OCCASIONS = ['a charity gala', 'a champagne toast', 'the met gala afterparty', 'a champagne brunch'] as const;
export const SEASONS = ['spring', 'summer', 'fall', 'winter', 'holiday', 'resort'] as const;
export const THEMES = ['Closet Reset', 'Style Challenge', 'Wardrobe Edit', 'Haul and Try-On', 'Get Ready With Me', 'Outfit Formula', 'Trend Report', 'Budget vs Splurge', 'Packing Guide', 'Styling Session', 'Thrift Flip', 'Capsule Wardrobe'] as const;
export const ADJECTIVES = ['Effortless', 'Modern', 'Classic', 'Bold', 'Minimal', 'Cozy', 'Glam', 'Chic', 'Vintage', 'Sunny', 'Moody', 'Polished'] as const;

export const SHOWS = [
  'Styling Adventures with Lala', 'Closet Confessions', 'The Capsule Edit', 'Runway to Real Life', 'Thrift Queens',
  'Glam on a Budget', 'Suitcase Stories', 'The Weekend Wardrobe', 'Heels and Deals', 'Prime Time Style',
  'Color Theory Closet', 'The Fit Check', 'Street Style Diaries', 'Red Carpet Rewind', 'Office Hours Outfits',
  'Sunday Reset', 'Vintage Vault', 'Bridal Style Files', 'Beauty Bench', 'Travel Light',
] as const;

export const PEOPLE = ['Lala', 'JustAWomanInHerPrime', 'Maya Chen', 'Jordan Ellis', 'Priya Patel', 'Sofia Rossi', 'Amara Okafor', 'Chloe Martin', 'Nina Brooks', 'Harper Lee Quinn'] as const;
export const GUEST_ROLES = ['stylist', 'designer', 'makeup artist', 'boutique owner', 'fashion editor', 'photographer', 'creative director'] as const;
export const BUSINESSES = ['Studio Atelier', 'The Edit Boutique', 'Glow Bar', 'Threadline Vintage', 'Maison Verde', 'North Loft Styling'] as const;
export const PLACES: readonly (readonly [name: string, city: string, country: string])[] = [
  ['Main closet studio', 'Atlanta', 'US'], ['Rooftop set', 'New York', 'US'], ['Downtown loft', 'Los Angeles', 'US'],
  ['Garden terrace', 'Paris', 'FR'], ['Beach house', 'Miami', 'US'], ['Gallery space', 'London', 'GB'],
  ['Hotel suite', 'Milan', 'IT'], ['Vintage market', 'Austin', 'US'], ['Lakeside cabin', 'Toronto', 'CA'],
];
export const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE', 'IT', 'ES', 'AU', 'NZ', 'IE', 'MX', 'BR'] as const;
export const LANGUAGES = ['en-US', 'en-US', 'en-US', 'en-US', 'en-GB', 'en', 'es-MX', 'fr-FR'] as const;
