"""The source experiments' method, for `npm run bench:source` (bench/sourceMethod.ts).

Two jobs:

  export  builds a Llama-shaped decoder in plain PyTorch (seeded random weights: RMSNorm,
          rotary attention with grouped-query heads, SwiGLU MLP, untied head), saves its weights
          (weights.pt) and exports the same module to ONNX with torch.onnx.export (model.onnx),
          with a config.json, so both sides of the comparison run identical weights.
  run     profiles texts the way the source experiments did: eager PyTorch, a forward hook on
          each decoder layer that takes the layer's delta (output - input) and reads its mean and
          absolute mean with .cpu() and .item(), one text at a time, the whole model run (head
          included, as a model(...) call runs it). Writes per-text, per-layer values as JSON.

The bench times `run` as a whole process (interpreter start, imports, loading weights, every
text), as it times the CLI. Token ids come from the bench (the project's tokenizer, the same ids
the CLI computes), because this Python has no `tokenizers` package: the source side's time
leaves out tokenization, which can only make its time shorter.
"""

import argparse
import json
import math
import sys


def build_model(torch, cfg):
    nn = torch.nn
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = cfg["num_key_value_heads"]
    head_dim = hidden // heads
    groups = heads // kv_heads
    eps = cfg["rms_norm_eps"]

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden))

        def forward(self, x):
            variance = x.pow(2).mean(-1, keepdim=True)
            return self.weight * (x * torch.rsqrt(variance + eps))

    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False)
            self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
            self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
            self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False)

        def forward(self, x, cos, sin, mask):
            b, s = x.shape[0], x.shape[1]
            q = self.q_proj(x).reshape(b, s, heads, head_dim).transpose(1, 2)
            k = self.k_proj(x).reshape(b, s, kv_heads, head_dim).transpose(1, 2)
            v = self.v_proj(x).reshape(b, s, kv_heads, head_dim).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            # Grouped-query attention: each key/value head serves `groups` query heads.
            k = k[:, :, None].expand(b, kv_heads, groups, s, head_dim).reshape(b, heads, s, head_dim)
            v = v[:, :, None].expand(b, kv_heads, groups, s, head_dim).reshape(b, heads, s, head_dim)
            scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(head_dim) + mask
            probs = torch.softmax(scores, dim=-1)
            out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, heads * head_dim)
            return self.o_proj(out)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            inter = cfg["intermediate_size"]
            self.gate_proj = nn.Linear(hidden, inter, bias=False)
            self.up_proj = nn.Linear(hidden, inter, bias=False)
            self.down_proj = nn.Linear(inter, hidden, bias=False)

        def forward(self, x):
            return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))

    class DecoderLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm = RMSNorm()
            self.self_attn = Attention()
            self.post_attention_layernorm = RMSNorm()
            self.mlp = MLP()

        def forward(self, x, cos, sin, mask):
            x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
            return x + self.mlp(self.post_attention_layernorm(x))

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(cfg["vocab_size"], hidden)
            self.layers = nn.ModuleList([DecoderLayer() for _ in range(cfg["num_hidden_layers"])])
            self.norm = RMSNorm()
            self.lm_head = nn.Linear(hidden, cfg["vocab_size"], bias=False)
            positions = cfg["max_position_embeddings"]
            inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, head_dim, 2).float() / head_dim))
            angles = torch.outer(torch.arange(positions).float(), inv_freq)
            angles = torch.cat((angles, angles), dim=-1)
            # Derived, not learned: kept out of the saved weights.
            self.register_buffer("cos", angles.cos(), persistent=False)
            self.register_buffer("sin", angles.sin(), persistent=False)

        def forward(self, input_ids, attention_mask):
            s = input_ids.shape[1]
            h = self.embed_tokens(input_ids)
            cos, sin = self.cos[:s], self.sin[:s]
            pos = torch.arange(s, device=input_ids.device)
            allowed = (pos[None, :] <= pos[:, None])[None, None] & (attention_mask[:, None, None, :] > 0)
            mask = (allowed.to(h.dtype) - 1.0) * 1e9
            for layer in self.layers:
                h = layer(h, cos, sin, mask)
            return self.lm_head(self.norm(h))

    return Decoder()


def export(args):
    import torch

    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": args.hidden,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads,
        "head_dim": args.hidden // args.heads,
        "intermediate_size": args.intermediate,
        "vocab_size": args.vocab_size,
        "max_position_embeddings": args.max_positions,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
    }
    torch.manual_seed(args.seed)
    model = build_model(torch, cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name == "embed_tokens.weight":
                p.normal_(0.0, 1.0)
            else:
                p.normal_(0.0, 0.02)
    torch.save(model.state_dict(), f"{args.out}/weights.pt")
    ids = torch.zeros((1, 8), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            f"{args.out}/model.onnx",
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}},
            opset_version=14,
            do_constant_folding=True,
        )
    with open(f"{args.out}/config.json", "w") as f:
        json.dump(cfg, f, indent=2)


def run(args):
    import torch

    torch.set_num_threads(args.threads)
    with open(f"{args.model}/config.json") as f:
        cfg = json.load(f)
    model = build_model(torch, cfg)
    model.load_state_dict(torch.load(f"{args.model}/weights.pt"))
    model.eval()
    with open(args.ids) as f:
        texts = json.load(f)

    current = []

    def hook(module, inputs, output):
        delta = output - inputs[0]
        current.append({"mean": delta.mean().cpu().item(), "absMean": delta.abs().mean().cpu().item()})

    for layer in model.layers:
        layer.register_forward_hook(hook)
    records = []
    with torch.no_grad():
        for text in texts:
            current.clear()
            ids = torch.tensor([text["ids"]], dtype=torch.long)
            model(ids, torch.ones_like(ids))
            records.append({"label": text["label"], "tokens": len(text["ids"]), "layers": list(current)})
    with open(args.out, "w") as f:
        json.dump({"threads": torch.get_num_threads(), "torch": torch.__version__, "records": records}, f)


def probe(args):
    """Torch's version and its float32 matmul speed: Debian's torch calls the system BLAS, which
    is the unoptimised reference one unless OpenBLAS is installed (about 25x slower)."""
    import time

    import onnx  # noqa: F401 (export needs it)
    import torch

    torch.set_num_threads(args.threads)

    def gflops(m, k, n, min_seconds):
        """The median rate of 5 timed batches, each at least min_seconds long, after a warm-up."""
        a, b = torch.randn(m, k), torch.randn(k, n)
        a @ b
        rates = []
        for _ in range(5):
            runs, start = 0, time.perf_counter()
            while runs == 0 or time.perf_counter() - start < min_seconds:
                a @ b
                runs += 1
            rates.append(2 * m * k * n * runs / (time.perf_counter() - start) / 1e9)
        return sorted(rates)[2]

    shapes = [[int(x) for x in s.split(",")] for s in args.shapes.split(";")] if args.shapes else []
    print(json.dumps({
        "torch": torch.__version__,
        "matmulGflops": gflops(512, 2048, 512, 0.02),
        # Rates on the bench model's own shapes ([m, k] x [k, n]), for its ceiling (gemmCeiling.ts).
        "shapes": [{"m": m, "k": k, "n": n, "gflops": gflops(m, k, n, 0.15)} for m, k, n in shapes],
    }))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--out", required=True)
    for name, default in [("hidden", 512), ("layers", 8), ("heads", 8), ("kv-heads", 2), ("intermediate", 2048), ("vocab-size", 32000), ("max-positions", 1024), ("seed", 1)]:
        e.add_argument(f"--{name}", type=int, default=default)
    r = sub.add_parser("run")
    r.add_argument("--model", required=True)
    r.add_argument("--ids", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("probe")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shapes", default="", help="m,k,n;m,k,n;... matrix products to time")
    args = parser.parse_args()
    {"export": export, "run": run, "probe": probe}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
