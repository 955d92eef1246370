-- A sign-in for an email nobody has (SEC-56: must cost what a wrong password costs).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC_APP")
wrk.body = "grant_type=password&username=nobody%40example.com&password=wrong+password+1"
