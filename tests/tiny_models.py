"""Tiny random-weight models built offline, to exercise the hub-profile loaders."""

from __future__ import annotations

import json
from pathlib import Path

from claritymentor.config import EMOTIONS

CORPUS = ["I feel nervous about my exam tomorrow.", "Thank you, that was really helpful!",
          "My manager was angry with me today.", "hello world how are you doing"] * 20
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def bpe_tokenizer(special: list[str], vocab_size: int = 300):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def tiny_causal_lm(path: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe_tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
                                  eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|im_start|>",
                                  model_input_names=["input_ids", "attention_mask"])
    tok.chat_template = CHAT_TEMPLATE
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id)
    LlamaForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def lora_adapter(base_dir: Path, out: Path, base_name: str) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    # init_lora_weights=False: random B, so the adapter visibly changes the outputs.
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False))
    peft.save_pretrained(out)
    cfg_path = out / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = base_name
    cfg_path.write_text(json.dumps(cfg))
    return out


def tiny_emotion_classifier(path: Path) -> Path:
    import torch
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe_tokenizer(["<s>", "<pad>", "</s>", "<unk>"]),
                                  bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                                  model_input_names=["input_ids", "attention_mask"])
    cfg = RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=130, pad_token_id=tok.pad_token_id,
                        id2label={i: e for i, e in enumerate(EMOTIONS)},
                        label2id={e: i for i, e in enumerate(EMOTIONS)})
    RobertaForSequenceClassification(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>",
                    "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]


def tiny_faster_whisper(work: Path) -> Path:
    """A random tiny Whisper converted to CTranslate2, loadable by faster-whisper."""
    import ctranslate2
    import torch
    from transformers import (PreTrainedTokenizerFast, WhisperConfig, WhisperFeatureExtractor,
                              WhisperForConditionalGeneration)

    torch.manual_seed(0)
    hf = work / "hf"
    stamps = [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    raw = bpe_tokenizer([], vocab_size=400)
    raw.add_special_tokens(WHISPER_SPECIALS + stamps)
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                  pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    ids = {t: raw.token_to_id(t) for t in WHISPER_SPECIALS}
    cfg = WhisperConfig(vocab_size=raw.get_vocab_size(), d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                        decoder_ffn_dim=64, num_mel_bins=80, max_source_positions=1500, max_target_positions=448,
                        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
                        pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"],
                        suppress_tokens=[], begin_suppress_tokens=[])
    model = WhisperForConditionalGeneration(cfg)
    model.generation_config.no_timestamps_token_id = ids["<|notimestamps|>"]
    model.save_pretrained(hf)
    tok.save_pretrained(hf)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(hf)
    out = work / "ct2"
    ctranslate2.converters.TransformersConverter(str(hf), copy_files=["tokenizer.json", "preprocessor_config.json"]
                                                 ).convert(str(out), force=True)
    return out
