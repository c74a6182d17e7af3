/** The graph document layer: JSON file <-> typed GraphDocument. */
export * from './schema';
export type { DocumentError, DocumentErrorCode } from './errors';
export { renderPath } from './errors';
export type { NodeTypeInfo, NodeTypeLookup } from './lookup';
export { createNodeTypeLookup } from './lookup';
export { DOCUMENT_MIGRATIONS, DOCUMENT_MIGRATION_NOTES, MigrationError } from './migrations';
export { parseDocument, parseDocumentValue, type ParseDocumentOptions, type ParseDocumentResult } from './parseDocument';
export { serializeDocument } from './serializeDocument';
export { loadDocumentFile, saveDocumentFile, DocumentSaveError } from './documentFile';
export { formatDocumentErrors } from './formatErrors';
export { findJsonSyntaxError, lineColumn } from './jsonPosition';
export { closestMatch, editDistance } from './suggest';
