// The header from C++17: extern "C" linkage, the layouts of the contract, and a few calls.
// Compiled with g++ -std=c++17 -Wall -Wextra -Werror -pedantic by ffi/tests/c_api.rs.
#include "etd.h"

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>

// The layouts other programs rely on (a contract).
static_assert(sizeof(etd_config) == 96, "etd_config layout");
static_assert(offsetof(etd_config, max_iterations) == 12, "etd_config layout");
static_assert(offsetof(etd_config, epsilon) == 16, "etd_config layout");
static_assert(offsetof(etd_config, damping) == 64, "etd_config layout");
static_assert(offsetof(etd_config, coupling) == 72, "etd_config layout");
static_assert(offsetof(etd_config, mutation_steps) == 84, "etd_config layout");
static_assert(offsetof(etd_config, mutation_step_size) == 88, "etd_config layout");
static_assert(sizeof(etd_step_stats) == 48, "etd_step_stats layout");
static_assert(sizeof(etd_sinkhorn_stats) == 16, "etd_sinkhorn_stats layout");
static_assert(sizeof(etd_status) == 4, "etd_status is 32 bits");
static_assert(ETD_OK == 0 && ETD_ERR_PANIC == 7, "status values");
static_assert(ETD_COUPLING_GIBBS == 2u && ETD_UPDATE_BARYCENTRIC == 1u, "constants");

namespace {

struct Gaussian {
    double centre;
    int calls;
};

extern "C" int log_density(void *user, const double *x, size_t count, size_t dim, double *out) {
    auto *g = static_cast<Gaussian *>(user);
    g->calls++;
    for (size_t i = 0; i < count; i++) {
        double s = 0.0;
        for (size_t k = 0; k < dim; k++) s += (x[i * dim + k] - g->centre) * (x[i * dim + k] - g->centre);
        out[i] = -0.5 * s;
    }
    return 0;
}

extern "C" int score(void *user, const double *x, size_t count, size_t dim, double *out) {
    auto *g = static_cast<Gaussian *>(user);
    for (size_t i = 0; i < count * dim; i++) out[i] = g->centre - x[i];
    return 0;
}

}  // namespace

int main() {
    constexpr uint32_t n = 32, m = 8, dim = 3;
    etd_config cfg{};
    etd_config_default(&cfg, n, m, dim);
    cfg.mutation_steps = 1;
    std::vector<unsigned char> mem(etd_sampler_size_f64(&cfg));
    etd_sampler_f64 *sampler = nullptr;
    if (etd_sampler_init_f64(mem.data(), mem.size(), &cfg, 11, &sampler) != ETD_OK) return 1;

    Gaussian target{2.0, 0};
    std::vector<double> x(n * dim);
    for (size_t i = 0; i < x.size(); i++) x[i] = static_cast<double>(i % 7) - 3.0;
    etd_step_stats stats{};
    for (int t = 0; t < 60; t++) {
        int32_t status = etd_sampler_step_f64(sampler, x.data(), log_density, score, &target, &stats);
        if (status != ETD_OK) {
            std::fprintf(stderr, "step %d: status %d\n", t, static_cast<int>(status));
            return 1;
        }
    }
    double mean = 0.0;
    for (double v : x) mean += v / static_cast<double>(x.size());
    std::printf("C++: etd %s, mean %.3f (target 2), %d callback calls, acceptance %.2f\n",
                etd_version(), mean, target.calls, stats.acceptance_rate);
    if (std::fabs(mean - 2.0) > 0.5 || target.calls == 0) return 1;
    return etd_sampler_step_f64(nullptr, x.data(), log_density, score, &target, nullptr) ==
                   ETD_ERR_NULL_POINTER
               ? 0
               : 1;
}
