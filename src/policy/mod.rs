//! Import and export policies: named, ordered rules evaluated purely over one route.
