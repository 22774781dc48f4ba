# Makes conf/ a package so Hydra finds the configs inside the installed project (pkg://).
