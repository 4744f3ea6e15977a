/**
 * `torch.text` in Node: everything of text/index.ts, and the classifier's model files, which are
 * read and written with Node's file system.
 */
export * from "../text";
export { saveClassifier, saveClassifierAsync, loadClassifier, ModelFileError, MODEL_FORMAT, MODEL_VERSION } from "../text/model-file";
