"""`paper-digest serve`: the browser review desk (routes and templates over the library's review functions)."""
