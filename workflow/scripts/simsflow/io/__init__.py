"""Readers and writers: SurfaceLab ASCII spectra, plain CSV/TSV, sheets, mass lists, Parquet."""
