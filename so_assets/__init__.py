"""so_assets: StackOverflow questions into tag taxonomies, predictors and reports."""
