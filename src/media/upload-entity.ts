// Uploads as a platform entity (like the audit trail): not in registry/ (the server writes them),
// but described with the same EntityDef, so codegen derives their table and migration and the
// list query language (filters, _sort, paging, _fields) works on GET /api/v1/uploads unchanged.
// One row per presigned upload: what it is for, where it lands, and how it ended.
import { platformEntity, platformField } from '../audit/audit-entity.ts';
import { DEFAULT_PERMISSIONS, type EntityDef } from '../registry/model.ts';

export const UPLOAD_STATES = ['pending', 'completed', 'aborted', 'expired'] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

const FILE = 'src/media/upload-entity.ts';
const field = platformField(FILE);

export const UPLOAD_ENTITY: EntityDef = platformEntity({
  name: 'upload',
  plural: 'uploads',
  idPrefix: 'upl',
  description:
    'A presigned upload of a file into a media field of a record: where it lands, who asked, and how it ended.',
  fields: [
    field('entity', 'string', {
      required: true,
      indexed: true,
      maxLength: 100,
      description: 'The entity of the record the file is for.',
    }),
    field('record_id', 'string', {
      indexed: true,
      maxLength: 100,
      description: 'The record the file is for; null when completing creates it.',
    }),
    field('field', 'string', {
      required: true,
      maxLength: 300,
      description: 'The media field (a dotted path) the file is set on.',
    }),
    field('filename', 'string', { required: true, maxLength: 255, description: "The client's file name." }),
    field('content_type', 'string', {
      required: true,
      maxLength: 255,
      description: 'The declared type; the presigned URL only takes this type.',
    }),
    field('size_bytes', 'integer', {
      required: true,
      minimum: 0,
      description: 'The declared size; the presigned URL only takes this many bytes.',
    }),
    field('sha256', 'string', {
      maxLength: 64,
      description: 'The declared SHA-256 (hex), checked on complete when given.',
    }),
    field('bucket', 'string', { required: true, maxLength: 63, description: 'The bucket it lands in.' }),
    field('key', 'string', {
      required: true,
      maxLength: 1024,
      description: 'The key it lands at, from the field’s key template.',
    }),
    field('uri', 'string', {
      required: true,
      maxLength: 1100,
      description: 'The s3:// URI the field is set to on complete.',
    }),
    field('state', 'enum', {
      required: true,
      indexed: true,
      values: UPLOAD_STATES,
      description: 'pending until completed, aborted or expired.',
    }),
    field('multipart_upload_id', 'string', { maxLength: 1024, description: "For a multipart upload: S3's UploadId." }),
    field('part_size', 'integer', {
      minimum: 1,
      description: 'For a multipart upload: the size of every part but the last.',
    }),
    field('part_count', 'integer', { minimum: 1, description: 'For a multipart upload: how many parts.' }),
    field('defaults', 'object', {
      description: 'For an upload that creates its record: the other values of that record.',
    }),
    field('etag', 'string', { maxLength: 200, description: "The object's ETag once completed." }),
    field('created_by', 'string', {
      indexed: true,
      maxLength: 300,
      description: "Who asked for it (the token's subject, or X-Actor with AUTH_MODE=off): only they may complete it.",
    }),
    field('created_at', 'datetime', { required: true, indexed: true, description: 'When it was presigned.' }),
    field('updated_at', 'datetime', { required: true, description: 'When it last changed.' }),
    field('expires_at', 'datetime', {
      required: true,
      indexed: true,
      description: 'A pending upload past this is expired and its partial object removed.',
    }),
    field('completed_at', 'datetime', { description: 'When it was completed.' }),
  ],
  // Uploads name files of records: who may write records may see them.
  permissions: { ...DEFAULT_PERMISSIONS, read: 'editor' },
  file: FILE,
});
