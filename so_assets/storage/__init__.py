"""DuckDB tables and HDF5 partition files."""
