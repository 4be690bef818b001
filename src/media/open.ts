// The object store the service uses: S3_ENDPOINT's server, or the embedded one in DATA_DIR/s3
// with the buckets made (the zero-setup default, like the embedded PostgreSQL).
import path from 'node:path';
import type { Logger } from 'pino';
import type { S3Settings } from '../config.ts';
import { startEmbeddedS3 } from './embedded-s3.ts';
import { MediaStorage } from './storage.ts';

export interface OpenedMedia {
  readonly storage: MediaStorage;
  /** The embedded server's endpoint, when it is the embedded one. */
  readonly embeddedEndpoint?: string;
  close(): Promise<void>;
}

export async function openMedia(settings: S3Settings, dataDir: string, logger: Logger): Promise<OpenedMedia> {
  const base = {
    region: settings.region,
    bucket: settings.bucket,
    thumbnailBucket: settings.thumbnailBucket,
    presignExpiresSeconds: settings.presignExpiresSeconds,
  };
  if (settings.endpoint) {
    const storage = new MediaStorage({ ...base, endpoint: settings.endpoint, forcePathStyle: settings.forcePathStyle });
    return { storage, close: async () => storage.client.destroy() };
  }
  const directory = path.join(dataDir, 's3');
  const embedded = await startEmbeddedS3({
    directory,
    buckets: [settings.bucket, settings.thumbnailBucket],
    port: settings.embeddedPort,
  });
  logger.info(
    { endpoint: embedded.endpoint, directory, buckets: [settings.bucket, settings.thumbnailBucket] },
    'S3_ENDPOINT is not set: started the embedded S3-compatible server',
  );
  const storage = new MediaStorage({
    ...base,
    endpoint: embedded.endpoint,
    forcePathStyle: true,
    credentials: embedded.credentials,
  });
  return {
    storage,
    embeddedEndpoint: embedded.endpoint,
    close: async () => {
      storage.client.destroy();
      await embedded.stop();
    },
  };
}
