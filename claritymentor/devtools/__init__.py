"""Tools for the scripts and the tests (speech to feed the pipeline, the browser
harness, benchmark figures); the app never imports them."""
