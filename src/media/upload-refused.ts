// Why an upload request is refused, as the media layer says it: a status, a code, a message and
// the field at fault. The API layer answers it in the error envelope (src/api/upload-routes.ts);
// media/ stays free of HTTP and of api/ (which imports media/).

export class UploadRefused extends Error {
  override readonly name = 'UploadRefused';
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 410 | 422,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}
