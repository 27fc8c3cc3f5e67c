from dms.mxnet_utils.nlp import encode_sentences, pad_sentence  # noqa: F401
