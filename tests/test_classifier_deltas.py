"""The low-rank form the fine-tuned network ships in: factoring changes and merging them back.

A tiny randomly initialised BERT stands in for the base model: no weights are loaded.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from classifiers.network import ComplaintNet, merge_deltas  # noqa: E402
from classifiers.train import low_rank_factors  # noqa: E402


def tiny_net() -> ComplaintNet:
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
    )
    torch.manual_seed(0)
    encoder = transformers.BertModel(config, add_pooling_layer=False)
    return ComplaintNet(encoder, 8).eval()


def test_low_rank_factors_are_exact_for_a_low_rank_change() -> None:
    torch.manual_seed(1)
    change = torch.randn(12, 3) @ torch.randn(3, 7)
    b, a = low_rank_factors(change, 3)
    assert b.shape == (12, 3) and a.shape == (3, 7)
    assert torch.allclose(b @ a, change, atol=1e-5)


def test_low_rank_factors_keep_the_largest_directions() -> None:
    torch.manual_seed(2)
    change = torch.randn(10, 10)
    singular = torch.linalg.svdvals(change)
    b, a = low_rank_factors(change, 4)
    error = torch.linalg.norm(change - b @ a)
    # Eckart-Young: the best rank-4 error is the norm of the singular values left out.
    assert error == pytest.approx(float(torch.linalg.norm(singular[4:])), rel=1e-4)
    b, a = low_rank_factors(change, 99)
    assert a.shape[0] == 10


def test_merge_deltas_adds_low_rank_and_dense_changes() -> None:
    net = tiny_net()
    params = dict(net.encoder.named_parameters())
    weight_name = "encoder.layer.0.attention.self.query.weight"
    bias_name = "encoder.layer.0.output.LayerNorm.bias"
    weight_before = params[weight_name].detach().clone()
    bias_before = params[bias_name].detach().clone()
    b, a = torch.randn(8, 2), torch.randn(2, 8)
    bias_change = torch.randn(8)
    merge_deltas(
        net,
        {
            f"delta.{weight_name}.A": a.half(),
            f"delta.{weight_name}.B": b.half(),
            f"delta.{bias_name}": bias_change,
            "head.weight": torch.zeros(1, 8),
        },
    )
    expected = weight_before + b.half().float() @ a.half().float()
    assert torch.allclose(params[weight_name], expected, atol=1e-5)
    assert torch.allclose(params[bias_name], bias_before + bias_change)


def test_merge_deltas_rejects_a_change_for_a_missing_parameter() -> None:
    net = tiny_net()
    with pytest.raises(ValueError, match=r"encoder\.layer\.5\.output\.dense\.bias"):
        merge_deltas(net, {"delta.encoder.layer.5.output.dense.bias": torch.zeros(8)})
