-- A sign-in for a known email with a wrong password (SEC-56: compared with an unknown email).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC_APP")
wrk.body = "grant_type=password&username=bench%40example.com&password=wrong+password+1"
