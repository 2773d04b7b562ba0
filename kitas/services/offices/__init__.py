"""Immigration offices: the data file synced into the table, the domicile rule, which offices an officer sees."""
