# Batches: the spectrum stages (import, calibration, integration) of every sample of one sheet
# batch in one job, one file per stage for the whole batch (results/{study}/batches/{key}/;
# per-sample files would make Snakemake's bookkeeping grow as the square of the batch, see
# simsflow.io.batches). Used for samples with a `batch` in the sheet; a new batch runs one new
# job and leaves the others untouched.


for _batch in SPECTRUM_BATCHES:
    _study, _name, _key, _samples = _batch.study, _batch.rule, _batch.key, _batch.samples
    _wc = SimpleNamespace(study=_study)

    rule:
        name:
            _name
        input:
            raw=batch_raw_inputs(_study, _samples),
            mass_list=mass_list_file(_wc),
        output:
            spectra=batch_file(_study, _key, "spectra"),
            calibration=batch_file(_study, _key, "calibration"),
            peaks=batch_file(_study, _key, "peaks"),
            summed=batch_file(_study, _key, "summed"),
            qc=batch_file(_study, _key, "qc"),
        log:
            f"logs/{_study}/batch/{_name}.log",
        benchmark:
            f"benchmarks/{_study}/batch/{_name}.tsv"
        conda:
            "../../envs/io.yaml"
        threads: 1
        resources:
            mem_mb=batch_mem_mb(_study, _samples),
        params:
            code=script_code("spectra_batch"),
            study=_study,
            samples=_samples,
            spots=for_batch(_study, _samples, sample_spots),
            files=for_batch(_study, _samples, sample_files),
            calibration=for_batch(_study, _samples, calibration_settings),
            on_error=on_error(_wc),
            integration=integration_settings(_wc),
            mass_list=mass_list_records(_wc),
        script:
            "../scripts/spectra_batch.py"
