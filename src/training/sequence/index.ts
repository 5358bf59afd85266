export { encodeUsers, itemEmbeddings, SequenceEncoder, SequenceModel } from './sequence-model';
export { exportSequenceEncoderToOnnx, SEQUENCE_ONNX_ITEMS, SEQUENCE_ONNX_TYPES, SEQUENCE_ONNX_USER, sequenceOnnxInputs } from './sequence-onnx-export';
export { defaultEpochs, NegativeSampling, SEQUENCE_DEFAULTS, SequenceTrainingInput, SequenceTrainingOptions, trainSequenceModel } from './train-sequence-model';
