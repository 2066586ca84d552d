-- wrk script: POST /api/meetings with the API key from the environment.
wrk.method = "POST"
wrk.body = '{"title":"Load test"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("CONVENE_KEY")
