# Batches: the spectrum stages (import, calibration, integration) of every sample of one sheet
# batch in one job, with the per-sample rules' outputs. Used for samples with a `batch` in the
# sheet; a new batch runs one new job and leaves the others untouched.


def _per_sample(study, batch_samples, function):
    """An input function of the per-sample rules, applied to every sample of a batch."""
    return {s: function(SimpleNamespace(study=study, sample=s)) for s in batch_samples}


def _batch_outputs(study, batch_samples, pattern):
    return [pattern.format(study=study, sample=s) for s in batch_samples]


for _study, _name, _samples in spectrum_batches():
    _wc = SimpleNamespace(study=_study)

    rule:
        name:
            _name
        input:
            raw=[
                r
                for raw in _per_sample(_study, _samples, raw_inputs).values()
                for r in as_list(raw)
            ],
            mass_list=mass_list_file(_wc),
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
            spots=_per_sample(_study, _samples, sample_spots),
            files=_per_sample(_study, _samples, sample_files),
            calibration=_per_sample(_study, _samples, calibration_settings),
            on_error=on_error(_wc),
            integration=integration_settings(_wc),
            mass_list=mass_list_records(_wc),
        script:
            "../scripts/spectra_batch.py"
