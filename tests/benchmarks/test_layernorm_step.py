"""The LayerNorm-tuning cost benchmark times what it says: a step that moves every LayerNorm of the tower and
the head, and nothing else of the tower (benchmarks.layernorm_step)."""

import pytest

from benchmarks.layernorm_step import tower_and_head, training_step


@pytest.mark.slow
def test_a_training_step_moves_the_layernorms_and_the_head_and_no_other_weight() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tower, head = tower_and_head()
    before = {name: p.detach().clone() for name, p in tower.named_parameters()}
    head_before = head.weight.detach().clone()
    trainable = [p for p in tower.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(trainable, lr=1e-3)
    training_step(tower, head, optimizer, torch.randn(2, 3, 224, 224), torch.tensor([0.0, 1.0]))
    moved = {name for name, p in tower.named_parameters() if not torch.equal(p, before[name])}
    norms = {name for name in before if "norm" in name}
    # norm_pre and norm1 / norm2 of 12 blocks, weight and bias each: 25 x 2 x 768
    assert len(norms) == 50 and sum(before[name].numel() for name in norms) == 38_400
    assert moved == norms
    assert not torch.equal(head.weight, head_before)
