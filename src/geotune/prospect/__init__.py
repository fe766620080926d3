"""Resource prediction: prospectivity from evidence layers, and volumetrics with uncertainty.

    from geotune.prospect import EvidenceStack, read_deposits, WeightsOfEvidence, MLProspectivity
    stack = EvidenceStack.from_files(["a.tif", "b.tif"], resample=True)
    deposits = read_deposits("deposits.csv")
    model = WeightsOfEvidence(unit_cell_km2=1.0).fit(stack, deposits, region=None)
    proba = model.predict_proba(stack)            # 2-D map, NaN outside the data
    sigma = model.predict_uncertainty(stack)
    cv = spatial_block_cv(lambda: MLProspectivity("gbm"), stack, deposits, n_folds=5)
"""

from .deposits import Deposits, read_deposits
from .layers import EvidenceLayer, EvidenceStack, infer_kind
from .ml import MLProspectivity
from .run import fit_run, load_run, map_run, stack_for_run
from .validation import block_folds, deposit_auc, spatial_block_cv, success_rate_curve
from .volumetrics import run_volumetrics, simulate
from .wofe import WeightsOfEvidence, WofEWarning, class_weights

__all__ = [
    "Deposits", "EvidenceLayer", "EvidenceStack", "MLProspectivity", "WeightsOfEvidence", "block_folds",
    "class_weights", "deposit_auc", "fit_run", "infer_kind", "load_run", "map_run", "read_deposits",
    "run_volumetrics", "simulate", "spatial_block_cv", "stack_for_run", "success_rate_curve", "WofEWarning",
]
