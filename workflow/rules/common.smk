# Reads and validates the configuration, the sample sheets and the mass lists once, before any
# job runs, and holds the input functions of every rule.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from simsflow.config import load_schema, read_sample_sheet, validate_config
from simsflow.errors import SimsflowError
from simsflow.io.masslist import read_mass_list

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
NEVER = "(?!x)x"  # a wildcard pattern that matches nothing


def _demo_dir(study):
    return f"data/demo/{study}"


def _load_studies(config):
    cfg = validate_config(config, load_schema(SCHEMAS / "config.schema.yaml"), workflow.configfiles)
    sheet_schema = load_schema(SCHEMAS / "samples.schema.yaml")
    mass_schema = load_schema(SCHEMAS / "mass_list.schema.yaml")
    sheets, mass_lists = {}, {}
    for study, settings in cfg["studies"].items():
        simulated = "simulate" in settings
        if simulated and settings["data_dir"] != _demo_dir(study):
            raise SimsflowError(
                f"a simulated study's data_dir must be {_demo_dir(study)}",
                file=workflow.configfiles[-1],
                column=f"studies.{study}.data_dir",
            )
        sheets[study] = read_sample_sheet(
            settings["sample_sheet"],
            sheet_schema,
            data_dir=settings["data_dir"],
            default_polarity=settings["polarity"],
            files_may_be_missing=simulated,
        )
        window = settings["mass_window"]
        mass_lists[study] = read_mass_list(
            settings["mass_list"],
            mass_schema,
            window_ppm=window.get("ppm"),
            window_da=window.get("da"),
        )
    return cfg, sheets, mass_lists


try:
    CONFIG, SHEETS, MASS_LISTS = _load_studies(config)
except SimsflowError as err:
    sys.exit(f"simsflow: configuration error: {err}")

STUDIES = sorted(CONFIG["studies"])
SIMULATED = sorted(s for s in STUDIES if "simulate" in CONFIG["studies"][s])


wildcard_constraints:
    study="|".join(STUDIES),
    sample="[A-Za-z0-9][A-Za-z0-9_.-]*",
    simulated="|".join(SIMULATED) or NEVER,


def samples(study):
    """Sample names of a study, in sheet order."""
    return list(dict.fromkeys(SHEETS[study]["sample"]))


def _sample_rows(wildcards):
    sheet = SHEETS[wildcards.study]
    return sheet[sheet["sample"] == wildcards.sample]


def raw_inputs(wildcards):
    """The raw files of a sample, or the folder the simulator writes them to."""
    if wildcards.study in SIMULATED:
        return f"{_demo_dir(wildcards.study)}/raw/{wildcards.sample}"
    return list(_sample_rows(wildcards)["path"])


def sample_spots(wildcards):
    return list(_sample_rows(wildcards)["spot"])


def sample_files(wildcards):
    return list(_sample_rows(wildcards)["path"])


def demo_design(wildcards):
    return CONFIG["studies"][wildcards.simulated]["simulate"]["design"]


def demo_seed(wildcards):
    return CONFIG["studies"][wildcards.simulated]["simulate"]["seed"]


def spectra_targets():
    return [
        f"results/{study}/spectra/{sample}.parquet"
        for study in STUDIES
        for sample in samples(study)
    ]
