"""What every task records after a distributed (DDP) fit: do all ranks hold the same weights?"""

from __future__ import annotations

import numpy as np


def ddp_agreement(trainer, model) -> dict:
    """Every rank's parameter checksum, gathered: after a DDP fit they must be equal."""
    import torch

    checksum = torch.tensor([sum(float(p.detach().double().sum()) for p in model.parameters())], dtype=torch.float64,
                            device=trainer.strategy.root_device)  # NCCL gathers CUDA tensors only
    gathered = trainer.strategy.all_gather(checksum).flatten().tolist()
    return {"world_size": trainer.world_size, "checksums": gathered,
            "ranks_agree": bool(np.allclose(gathered, gathered[0], rtol=0, atol=1e-6))}


def is_distributed(trainer) -> bool:
    return trainer is not None and trainer.world_size > 1
