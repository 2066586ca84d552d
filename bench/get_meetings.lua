-- wrk script: GET /api/meetings with the API key from the environment.
wrk.method = "GET"
wrk.headers["x-api-key"] = os.getenv("CONVENE_KEY")
