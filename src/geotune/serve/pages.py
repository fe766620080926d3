"""The web app's pages as plain HTML strings (shared style with the report)."""

from __future__ import annotations

from urllib.parse import quote

from ..report.sections.markup import esc, img, page, table
from .predict import predicting_tasks


def index(catalog, max_upload_mb: float, message: str = "") -> str:
    runs = catalog.runs
    rows = "".join(
        f"<tr><td><a href='/run/{i}'>{esc(r.name)}</a></td><td>{esc(r.kind)}</td><td>{esc(_headline(r))}</td>"
        f"<td><a href='/run/{i}/report'>report</a></td></tr>" for i, r in enumerate(runs))
    listing = (f"<table><tr><th>run</th><th>kind</th><th>score</th><th></th></tr>{rows}</table>" if runs
               else "<p>No runs found. Start with <code>geotune serve RUN</code> or a folder of runs.</p>")
    blocks = [("Runs", listing)]
    predicting = [(i, r) for i, r in enumerate(runs) if r.kind in predicting_tasks()]
    if predicting:
        options = "".join(f"<option value='{i}'>{esc(r.name)} ({esc(r.kind)})</option>" for i, r in predicting)
        blocks.insert(0, ("Predict", f"""
<form id='upload' method='post' action='/predict' enctype='multipart/form-data'>
<p><label>Model <select name='run' id='run'>{options}</select></label></p>
<p><label>File <input type='file' name='file' id='file' required></label>
<button type='submit' id='submit'>Predict</button></p></form>
<p style='opacity:.75'>Images (PNG, JPEG, TIFF) or a .npy array for image models; a seismic section (.npy or SEG-Y)
for segmentation models; a CSV of well logs for log models. Up to {max_upload_mb:g} MB.</p>"""))
    notes = list(catalog.skipped) + ([message] if message else [])
    return page("geotune", "local web app: predictions, reports, maps and plans", blocks, notes)


def _headline(run) -> str:
    for key in ("accuracy", "macro_f1", "mean_iou", "micro_f1"):
        if isinstance(run.metrics.get(key), (int, float)):
            return f"{key} {run.metrics[key]:.3f}"
    auc = (run.metrics.get("spatial_cv") or {}).get("auc_pooled")
    if isinstance(auc, (int, float)):
        return f"spatial CV AUC {auc:.3f}"
    if run.kind == "plan" and "holes_planned" in run.config:
        return f"{run.config['holes_planned']} holes planned"
    return ""


def run_page(index_: int, run, pictures: dict) -> str:
    about = table(("setting", "value"), [(k, run.config[k]) for k in ("task", "backbone", "classes", "method",
                                                                       "strategy", "budget") if k in run.config])
    links = f"<p><a href='/run/{index_}/report'>open the full report</a> · <a href='/'>all runs</a></p>"
    shown = "".join(f"<h3>{esc(name)}</h3><img class='plot' alt='{esc(name)}' src='/run/{index_}/file/{esc(quote(name))}'>"
                    for name in pictures) or "<p>No pictures in this run folder.</p>"
    return page(f"geotune: {run.name}", f"{run.kind} run at {run.run_dir}",
                [("Run", links + about), ("Maps and plots", shown)])


def result_page(result) -> str:
    parts = [f"<p>Model <b>{esc(result.run)}</b> ({esc(result.task)}) on <b>{esc(result.filename)}</b>: "
             f"{result.n_total} prediction(s).</p>"]
    for n, sample in enumerate(result.samples):
        bars = "".join(f"<tr><td>{esc(c)}</td><td class='num'>{p:.3f}</td>"
                       f"<td><span class='bar' style='width:{int(p * 200)}px'></span></td></tr>"
                       for c, p in sorted(sample.probabilities.items(), key=lambda kv: -kv[1]))
        pics = "".join(f"<div class='card'>{img(png, cap, cls='')}<div>{esc(cap)}</div></div>"
                       for cap, png in sample.pictures.items())
        element = " id='prediction'" if n == 0 else ""
        parts.append(f"<h3>{esc(sample.name)}: <span class='predicted'{element}>{esc(sample.predicted)}</span></h3>"
                     f"<div class='grid'><table class='probabilities'><tr><th>class</th><th>probability</th><th></th>"
                     f"</tr>{bars}</table>{pics}</div>")
    parts.append("<p><a href='/'>predict another file</a></p>")
    return page("geotune: prediction", f"{result.task} model {result.run}", [("Prediction", "".join(parts))],
                result.notes)


def error_page(status: int, message: str) -> str:
    return page(f"geotune: error {status}", "", [("Could not do that", f"<p id='error'>{esc(message)}</p>"
                                                   "<p><a href='/'>back</a></p>")])
