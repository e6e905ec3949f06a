// The outbound side's public surface: message builders, connectors, retry arithmetic and
// notifications. The push and notification jobs import from here.

export * from './messages.js';
export * from './delivery.js';
export * from './retry.js';
export * from './errors.js';
export { renderMessage, messageFileName, FILE_FORMATS, type FileFormat, type RenderedFile } from './render/render.js';
export type { CsvOptions } from './render/csv.js';
export * from './connectors/connectors.js';
export { createHttpConnector } from './connectors/http.js';
export { createFileDropConnector, type FileDropOptions } from './connectors/file-drop.js';
export { createSftpConnector, fingerprintOf, type SftpConnector, type SftpClientLike } from './connectors/sftp-push.js';
export * from './notify/rules.js';
export * from './notify/render.js';
export * from './notify/digest.js';
export * from './notify/channels.js';
export { createTeamsChannel, teamsCardPayload, type TeamsChannelConfig } from './notify/teams.js';
export { createEmailChannel, smtpFailure, type EmailChannelConfig, type MailTransport } from './notify/email.js';
