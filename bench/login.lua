-- wrk script: POST /api/auth/login (argon2 verification on every request).
wrk.method = "POST"
wrk.body = '{"email":"load@example.com","password":"secret123"}'
wrk.headers["Content-Type"] = "application/json"
