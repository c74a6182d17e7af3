/** The graph document layer: JSON file <-> typed GraphDocument. */
export * from './schema';
export type { DocumentError, DocumentErrorCode, DocumentWarning } from './errors';
export { renderPath } from './errors';
export type { NodeTypeInfo, NodeTypeLookup } from './lookup';
export { createNodeTypeLookup } from './lookup';
export { DOCUMENT_MIGRATIONS, DOCUMENT_MIGRATION_NOTES, MigrationError } from './migrations';
export { parseDocument, parseDocumentValue, type ParseDocumentOptions, type ParseDocumentResult } from './parseDocument';
export { serializeDocument } from './serializeDocument';
export { loadDocumentFile, readDocumentText, saveDocumentFile, DocumentSaveError, describeIoError } from './documentFile';
export { formatDocumentErrors, MAX_PRINTED_ERRORS, moreLine } from './formatErrors';
export { DOCUMENT_LIMITS, type DocumentLimits } from './limits';
export { findJsonSyntaxError, lineColumn } from './jsonPosition';
export { closestMatch, editDistance } from './suggest';
