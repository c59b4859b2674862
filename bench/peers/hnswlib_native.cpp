// hnswlib (Debian libhnswlib-dev headers) compiled for this CPU, as a fairer peer than the python3-hnswlib
// package, which Debian builds for baseline x86-64 (SSE only). Speaks the JSON-lines protocol of
// hnsw_peer.py --serve on stdin/stdout so the C# driver can interleave its timed passes:
//   {"cmd":"build"} -> {"engine":...,"buildSeconds":...,"memoryBytes":...}
//   {"cmd":"search","ef":32} -> {"seconds": one pass over all queries, "recall": recall@k}
//   {"cmd":"quit"}
// Build: g++ -O3 -march=native -std=c++17 -pthread bench/peers/hnswlib_native.cpp -o hnswlib_native
// Usage: hnswlib_native BASE.fvecs QUERY.fvecs GT.ivecs K M EF_CONSTRUCTION THREADS
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

template <typename T>
static std::vector<T> read_vecs(const char* path, int& rows, int& dim) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { std::cerr << "cannot open " << path << "\n"; std::exit(2); }
    std::vector<T> data;
    rows = 0;
    dim = 0;
    int d;
    while (in.read(reinterpret_cast<char*>(&d), 4)) {
        if (dim == 0) dim = d;
        if (d != dim) { std::cerr << path << ": inconsistent dimension\n"; std::exit(2); }
        size_t off = data.size();
        data.resize(off + d);
        in.read(reinterpret_cast<char*>(data.data() + off), sizeof(T) * d);
        rows++;
    }
    return data;
}

static long rss_bytes() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024L;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 8) {
        std::cerr << "usage: hnswlib_native BASE QUERY GT K M EFC THREADS\n";
        return 2;
    }
    int n, dim, nq, qdim, ngt, gtk;
    auto xb = read_vecs<float>(argv[1], n, dim);
    auto xq = read_vecs<float>(argv[2], nq, qdim);
    auto gt = read_vecs<int>(argv[3], ngt, gtk);
    int k = std::atoi(argv[4]), m = std::atoi(argv[5]), efc = std::atoi(argv[6]), threads = std::atoi(argv[7]);
    hnswlib::L2Space space(dim);
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
    std::vector<size_t> found(static_cast<size_t>(nq) * k);

    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.find("\"quit\"") != std::string::npos) break;
        if (line.find("\"build\"") != std::string::npos) {
            index.reset();
            long before = rss_bytes();
            auto t0 = std::chrono::steady_clock::now();
            index.reset(new hnswlib::HierarchicalNSW<float>(&space, n, m, efc, 100));
            index->addPoint(xb.data(), 0);
            std::atomic<int> next(1);
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; t++) {
                pool.emplace_back([&] {
                    for (int i = next++; i < n; i = next++) index->addPoint(xb.data() + static_cast<size_t>(i) * dim, i);
                });
            }
            for (auto& th : pool) th.join();
            double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            long mem = rss_bytes() - before;
            index->setEf(64);
            for (int q = 0; q < std::min(nq, 200); q++) index->searchKnn(xq.data() + static_cast<size_t>(q) * dim, k);
            std::printf("{\"engine\": \"hnswlib 0.6.2 native -march=native\", \"buildSeconds\": %.6f, \"memoryBytes\": %ld, \"buildThreads\": %d}\n",
                        seconds, mem, threads);
        } else if (line.find("\"search\"") != std::string::npos) {
            size_t pos = line.find("\"ef\":");
            int ef = pos == std::string::npos ? 64 : std::atoi(line.c_str() + pos + 5);
            index->setEf(ef);
            auto t0 = std::chrono::steady_clock::now();
            for (int q = 0; q < nq; q++) {
                auto res = index->searchKnn(xq.data() + static_cast<size_t>(q) * dim, k);
                for (int j = static_cast<int>(res.size()) - 1; j >= 0; j--) {
                    found[static_cast<size_t>(q) * k + j] = res.top().second;
                    res.pop();
                }
            }
            double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            long hits = 0;
            for (int q = 0; q < nq; q++) {
                std::unordered_set<int> truth(gt.begin() + static_cast<size_t>(q) * gtk, gt.begin() + static_cast<size_t>(q) * gtk + k);
                for (int j = 0; j < k; j++) hits += truth.count(static_cast<int>(found[static_cast<size_t>(q) * k + j]));
            }
            std::printf("{\"seconds\": %.9f, \"recall\": %.6f}\n", seconds, static_cast<double>(hits) / (static_cast<double>(nq) * k));
        } else {
            std::printf("{\"error\": \"unknown command\"}\n");
        }
        std::fflush(stdout);
    }
    return 0;
}
