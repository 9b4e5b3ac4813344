# Batches: the spectrum stages (import, calibration, integration) of every sample of one sheet
# batch in one job, with the per-sample rules' outputs. Used for samples with a `batch` in the
# sheet; a new batch runs one new job and leaves the others untouched.


def _batch_params(study, batch_samples):
    per_sample = {}
    for sample in batch_samples:
        wc = SimpleNamespace(study=study, sample=sample)
        per_sample[sample] = {
            "spots": sample_spots(wc),
            "files": sample_files(wc),
            "calibration": calibration_settings(wc),
        }
    return per_sample


def _batch_outputs(study, batch_samples, pattern):
    return [pattern.format(study=study, sample=s) for s in batch_samples]


for _study, _name, _samples in spectrum_batches():

    rule:
        name:
            _name
        input:
            raw=[
                r
                for s in _samples
                for r in as_list(raw_inputs(SimpleNamespace(study=_study, sample=s)))
            ],
            mass_list=CONFIG["studies"][_study]["mass_list"],
        output:
            spectra=_batch_outputs(_study, _samples, "results/{study}/spectra/{sample}.parquet"),
            calibration=_batch_outputs(
                _study, _samples, "results/{study}/calibration/{sample}.parquet"
            ),
            peaks=_batch_outputs(_study, _samples, "results/{study}/peaks/{sample}.parquet"),
            summed=_batch_outputs(_study, _samples, "results/{study}/summed/{sample}.parquet"),
            qc=_batch_outputs(_study, _samples, "results/{study}/qc/integration/{sample}.tsv"),
        log:
            f"logs/{_study}/batch/{_name}.log",
        conda:
            "../../envs/io.yaml"
        params:
            code=script_code("spectra_batch"),
            study=_study,
            samples=_samples,
            per_sample=_batch_params(_study, _samples),
            on_error=CONFIG["studies"][_study]["on_error"],
            integration=CONFIG["studies"][_study]["integration"],
            mass_list=MASS_LISTS[_study].drop(columns=["line"]).to_dict(orient="records"),
        script:
            "../scripts/spectra_batch.py"
