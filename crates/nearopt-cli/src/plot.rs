//! Figures: plotters renderings of `nearopt::experiments::Figure` (being built).
