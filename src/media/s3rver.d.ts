// s3rver ships no types: the part of its API the embedded S3 server uses.
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  interface S3rverOptions {
    directory: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    getMiddleware(): (req: IncomingMessage, res: ServerResponse) => void;
    configureBuckets(): Promise<void>;
  }
}
