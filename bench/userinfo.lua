wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ACCESS")
