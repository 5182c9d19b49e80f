// the report page's script (being built)
