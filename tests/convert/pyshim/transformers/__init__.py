# Test shim standing in for transformers (not packaged for this Debian): llama.cpp's converter falls back
# to config.json when AutoConfig fails, and its LlamaHfVocab needs only these AutoTokenizer members.
# "Special" tokens here are the added_tokens entries flagged special in tokenizer.json.
import json
from pathlib import Path


class AutoConfig:
    @staticmethod
    def from_pretrained(*args, **kwargs):
        raise RuntimeError("transformers shim: read config.json")


class _FastTokenizer:
    def __init__(self, path):
        tj = json.loads((Path(path) / "tokenizer.json").read_text(encoding="utf-8"))
        base = tj["model"]["vocab"]
        self.vocab_size = len(base)
        self._added = {a["content"]: a["id"] for a in tj.get("added_tokens", [])}
        self.vocab = dict(base)
        self.vocab.update(self._added)
        self.all_special_tokens = [a["content"] for a in tj.get("added_tokens", []) if a.get("special")]
        self.all_special_ids = [self._added[t] for t in self.all_special_tokens]
        self.is_fast = True

    def get_added_vocab(self):
        return dict(self._added)

    def get_vocab(self):
        return dict(self.vocab)


class AutoTokenizer:
    @staticmethod
    def from_pretrained(path, **kwargs):
        return _FastTokenizer(path)
