/* nn.c — portable C kernels for linear and ReLU layers (see nn.h). */
#include "nn/nn.h"

#define BLK 16

NCF_MULTIVERSION
void ncf_linear_forward_(float *restrict y, const float *restrict x, const float *restrict wt,
                         const float *restrict b, int in, int out)
{
    int o0 = 0;
    for (; o0 + BLK <= out; o0 += BLK) {
        float acc[BLK];
        for (int k = 0; k < BLK; k++) acc[k] = b[o0 + k];
        for (int i = 0; i < in; i++) {
            const float xi = x[i];
            const float *restrict row = wt + (size_t)i * (size_t)out + o0;
            for (int k = 0; k < BLK; k++) acc[k] += xi * row[k];
        }
        for (int k = 0; k < BLK; k++) y[o0 + k] = acc[k];
    }
    for (; o0 + 8 <= out; o0 += 8) {
        float acc[8];
        for (int k = 0; k < 8; k++) acc[k] = b[o0 + k];
        for (int i = 0; i < in; i++) {
            const float xi = x[i];
            const float *restrict row = wt + (size_t)i * (size_t)out + o0;
            for (int k = 0; k < 8; k++) acc[k] += xi * row[k];
        }
        for (int k = 0; k < 8; k++) y[o0 + k] = acc[k];
    }
    for (; o0 < out; o0++) {
        float acc = b[o0];
        for (int i = 0; i < in; i++) acc += x[i] * wt[(size_t)i * (size_t)out + o0];
        y[o0] = acc;
    }
}

NCF_MULTIVERSION
void ncf_linear_backward_x_(float *restrict dx, const float *restrict dy, const float *restrict w, int in, int out)
{
    int i0 = 0;
    for (; i0 + BLK <= in; i0 += BLK) {
        float acc[BLK] = {0};
        for (int o = 0; o < out; o++) {
            const float g = dy[o];
            const float *restrict row = w + (size_t)o * (size_t)in + i0;
            for (int k = 0; k < BLK; k++) acc[k] += g * row[k];
        }
        for (int k = 0; k < BLK; k++) dx[i0 + k] = acc[k];
    }
    for (; i0 + 8 <= in; i0 += 8) {
        float acc[8] = {0};
        for (int o = 0; o < out; o++) {
            const float g = dy[o];
            const float *restrict row = w + (size_t)o * (size_t)in + i0;
            for (int k = 0; k < 8; k++) acc[k] += g * row[k];
        }
        for (int k = 0; k < 8; k++) dx[i0 + k] = acc[k];
    }
    for (; i0 < in; i0++) {
        float acc = 0.0f;
        for (int o = 0; o < out; o++) acc += dy[o] * w[(size_t)o * (size_t)in + i0];
        dx[i0] = acc;
    }
}

NCF_MULTIVERSION
void ncf_linear_backward_w_(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
                            const float *restrict x, size_t x_stride, int rows, int in, int out)
{
    for (int o = 0; o < out; o++) {
        float *restrict dwr = dw + (size_t)o * (size_t)in;
        float bsum = db[o];
        for (int r = 0; r < rows; r++) bsum += dy[(size_t)r * dy_stride + (size_t)o];
        db[o] = bsum;
        int i0 = 0;
        for (; i0 + BLK <= in; i0 += BLK) {
            float acc[BLK];
            for (int k = 0; k < BLK; k++) acc[k] = dwr[i0 + k];
            for (int r = 0; r < rows; r++) {
                const float g = dy[(size_t)r * dy_stride + (size_t)o];
                const float *restrict xr = x + (size_t)r * x_stride + i0;
                for (int k = 0; k < BLK; k++) acc[k] += g * xr[k];
            }
            for (int k = 0; k < BLK; k++) dwr[i0 + k] = acc[k];
        }
        for (; i0 + 8 <= in; i0 += 8) {
            float acc[8];
            for (int k = 0; k < 8; k++) acc[k] = dwr[i0 + k];
            for (int r = 0; r < rows; r++) {
                const float g = dy[(size_t)r * dy_stride + (size_t)o];
                const float *restrict xr = x + (size_t)r * x_stride + i0;
                for (int k = 0; k < 8; k++) acc[k] += g * xr[k];
            }
            for (int k = 0; k < 8; k++) dwr[i0 + k] = acc[k];
        }
        for (; i0 < in; i0++) {
            float acc = dwr[i0];
            for (int r = 0; r < rows; r++) acc += dy[(size_t)r * dy_stride + (size_t)o] * x[(size_t)r * x_stride + i0];
            dwr[i0] = acc;
        }
    }
}

void ncf_relu_forward_(float *x, int n)
{
    for (int k = 0; k < n; k++) x[k] = x[k] > 0.0f ? x[k] : 0.0f;
}

void ncf_relu_backward_(float *restrict dy, const float *restrict y, int n)
{
    for (int k = 0; k < n; k++) dy[k] = y[k] > 0.0f ? dy[k] : 0.0f;
}
