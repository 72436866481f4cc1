"""One character at a time through the essay LSTM, with the weights held in the precision the CPU is fast at.

Generating a character is a handful of matrix-vector products (about 3 million weights for the
default 2x512 LSTM) plus a few dozen small tensor operations, so its speed is set by how many bytes
of weights are read per character and by per-operation overhead. The weight formats:

- ``float16``: half the bytes through FBGEMM's fp16 GEMM (weights packed once, converted to float32
  in registers; inputs, outputs, states and gates stay float32). Needs only AVX2 + F16C. Artifacts
  store their weights in float16, so this path multiplies by exactly the stored numbers: it matches
  float32 up to the order of the sums (log-probabilities within about 1e-5).
- ``bfloat16``: half the bytes through oneDNN; fast only with native bfloat16 instructions
  (AVX512-BF16), several times slower than float32 where PyTorch has to emulate them. It rounds the
  weights to 8 significant bits (log-probabilities move by about 0.004 on average).
- ``int8``: a quarter of the bytes, weight-only int8 with one float scale per output row
  (``torch._weight_int8pack_mm``, which takes bfloat16 activations); log-probabilities move by about 0.01.
- ``float32``: the reference; exactly the trained network's arithmetic.

``precision="auto"`` takes float16 wherever PyTorch has FBGEMM (x86 CPUs with AVX2): measured on
this project's AVX512-BF16 machine it is faster than bfloat16 as well as exact, and held to AVX2 it
is about 1.5x float32 per CPU second. Without FBGEMM, bfloat16 where the CPU has it natively and
ATen dispatches to AVX512, else float32. ``AVX2_ENV`` (``ATEN_CPU_CAPABILITY=avx2`` and the same
limit for FBGEMM, MKL and oneDNN) makes a newer CPU behave like an AVX2-only one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gallery import charmodel

PRECISIONS = ("auto", "bfloat16", "float16", "int8", "float32")
ALIASES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "half": "float16"}
AVX2_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}


def cpu_capability() -> str:
    """The vector instruction set ATen dispatches to: "AVX512", "AVX2", "DEFAULT", ..."""
    return torch.backends.cpu.get_cpu_capability()


def native_bfloat16() -> bool:
    """True when the CPU has AVX512-BF16 and ATen is allowed to use AVX512 (not forced down to AVX2)."""
    try:
        bf16 = torch.cpu._is_avx512_bf16_supported()
    except AttributeError:
        return False
    return bf16 and cpu_capability().startswith("AVX512")


def fbgemm_available() -> bool:
    return "fbgemm" in torch.backends.quantized.supported_engines and hasattr(
        torch.ops.quantized, "linear_prepack_fp16"
    )


def resolve(precision: str = "auto") -> str:
    """The concrete precision ``precision`` stands for on this CPU (raises ValueError when unknown)."""
    p = ALIASES.get(str(precision).lower(), str(precision).lower())
    if p not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if p == "auto":
        if fbgemm_available():
            return "float16"
        return "bfloat16" if native_bfloat16() else "float32"
    if p == "float16" and not fbgemm_available():
        raise ValueError("float16 stepping needs PyTorch's FBGEMM backend, which this build lacks")
    return p


class _Linear:
    """y = x W^T (+ b) for float32 x (B, in) -> float32 (B, out), with W held in one precision."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, precision: str):
        self.precision = precision
        weight, bias = weight.detach().float().contiguous(), None if bias is None else bias.detach().float()
        if precision == "float16":
            self.packed = torch.ops.quantized.linear_prepack_fp16(weight, bias)
        elif precision == "int8":
            scale = weight.abs().amax(1).clamp_min(1e-12) / 127  # (out,) one scale per output row
            self.w = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
            self.scale, self.bias = scale.to(torch.bfloat16), bias
        else:
            self.w = weight.to(torch.bfloat16 if precision == "bfloat16" else torch.float32)
            self.bias = bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.precision == "float16":
            return torch.ops.quantized.linear_dynamic_fp16.default(x, self.packed)  # .default: no dispatch check
        if self.precision == "int8":
            y = torch._weight_int8pack_mm(x.to(torch.bfloat16), self.w, self.scale).float()
        elif self.precision == "bfloat16":
            y = F.linear(x.to(torch.bfloat16), self.w).float()
        else:
            return F.linear(x, self.w, self.bias)
        return y if self.bias is None else y + self.bias

    def dequantized(self) -> torch.Tensor:
        """The float32 weights this layer actually multiplies by (for tests and error bounds)."""
        if self.precision == "float16":
            return torch.ops.quantized.linear_unpack_fp16(self.packed)[0].float()
        if self.precision == "int8":
            return self.w.float() * self.scale.float()[:, None]
        return self.w.float()


class Stepper:
    """Runs an unconditioned LSTM CharRNN one character at a time in a chosen weight precision.

    Same maths as ``CharRNN.forward`` (and ``charmodel.LSTMStepper``), rearranged once: the embedding
    is folded into the first layer's input weights (a float32 lookup table with both biases), each
    upper layer's two matrices are joined into one with its summed bias, and the cell applies one
    sigmoid to all four gates (the candidate gate's rows are doubled so that
    ``tanh(g) = 2 * sigmoid(2g) - 1``). States, gates and the lookup table stay float32.
    """

    def __init__(self, net: charmodel.CharRNN, precision: str = "auto"):
        if net.cfg.cell != "lstm" or net.cfg.n_classes:
            raise ValueError("the stepper runs unconditioned LSTM models only")
        self.precision = resolve(precision)
        self.requested = precision
        rnn, hidden = net.rnn, net.cfg.hidden
        double = torch.ones(4 * hidden, 1)
        double[2 * hidden : 3 * hidden] = 2.0  # the candidate gate g, see the class docstring
        with torch.no_grad():
            table = F.linear(net.embed.weight, rnn.weight_ih_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0)  # (V, 4H)
            self.table = table * double[:, 0]
            self.layers = [_Linear(rnn.weight_hh_l0 * double, None, self.precision)]
            for k in range(1, net.cfg.layers):
                w = torch.cat([getattr(rnn, f"weight_ih_l{k}"), getattr(rnn, f"weight_hh_l{k}")], 1)  # (4H, 2H)
                b = getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}")
                self.layers.append(_Linear(w * double, b * double[:, 0], self.precision))
            self.head = _Linear(net.head.weight, net.head.bias, "float32")  # small; kept exact

    @staticmethod
    def _cell(gates, c):
        i, f, g, o = torch.sigmoid(gates).chunk(4, dim=1)
        c = torch.addcmul(f * c - i, i, g, value=2.0)  # f c + i tanh(g_raw), as i (2 sigmoid(2 g_raw) - 1)
        return o * torch.tanh(c), c

    def step(self, idx, state):
        """idx (B,), state: lists [h per layer], [c per layer] each (B, H) -> logits (B, V), new state.

        No autograd is recorded: every tensor here was made under ``no_grad`` or detached.
        """
        hs, cs = state
        h, c = self._cell(self.table[idx] + self.layers[0](hs[0]), cs[0])  # (B, H) each
        new_h, new_c = [h], [c]
        for lin, h_prev, c_prev in zip(self.layers[1:], hs[1:], cs[1:]):
            h, c = self._cell(lin(torch.cat([h, h_prev], 1)), c_prev)
            new_h.append(h)
            new_c.append(c)
        return self.head(h), (new_h, new_c)

    from_torch_state = staticmethod(charmodel.LSTMStepper.from_torch_state)

    def describe(self) -> str:
        return f"{self.precision} weights, CPU capability {cpu_capability()}"
