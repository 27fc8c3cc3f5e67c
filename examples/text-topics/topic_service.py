"""A Python service for a text model (examples/text-topics, made by
examples/train_text_topics.py): `_preprocess` tokenizes a sentence into the model's token ids,
`_postprocess` maps the probabilities to the topic's name.

    deep-model-server --models topics=examples/text-topics --service examples/text-topics/topic_service.py
    curl -X POST http://127.0.0.1:8080/topics/predict -H 'Content-Type: application/json' \\
         -d '{"input0": "The striker scored a late goal"}'
    # {"prediction":{"topic":"sport","probability":0.99…}}
"""

import json
import os
import re

import numpy as np
from dms.errors import InvalidInput
from dms.mxnet_model_service import MXNetBaseService
from dms.mxnet_utils import nlp


class TopicService(MXNetBaseService):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(os.path.join(self.model_dir, "vocab.json")) as file:
            vocab = json.load(file)
        self.words = vocab["words"]
        self.unknown = vocab["unknown"]
        self.padding = vocab["padding"]
        self.length = vocab["length"]

    def _preprocess(self, data):
        text = data[0]
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput('send the sentence as a JSON string, for example {"input0": "The striker scored"}')
        tokens = re.findall(r"[a-z]+", text.lower())[: self.length]
        ids = [self.words.get(token, self.unknown) for token in tokens]
        return [nlp.pad_sentence(ids, [self.length], invalid_label=self.padding).asnumpy()]

    def _postprocess(self, data):
        probabilities = data[0].asnumpy()[0]
        best = int(np.argmax(probabilities))
        return {"topic": self.labels[best], "probability": float(probabilities[best])}
