// The one pattern every registry name (entity, field, role scope) matches: lower snake case that
// fits a PostgreSQL identifier. The meta-schema and the field-type table both use it.
export const NAME_PATTERN = '^[a-z][a-z0-9_]{0,62}$';
