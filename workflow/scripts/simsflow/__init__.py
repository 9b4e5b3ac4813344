"""simsflow: ToF-SIMS spectra of battery materials to peak tables, models and figures.

The library behind the Snakemake workflow. Every function takes arrays or tables and returns
them; reading and writing files lives in ``simsflow.io``; nothing here touches ``snakemake``.
"""

__version__ = "0.1.0"
