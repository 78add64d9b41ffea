# The worker image: the trainer with torch, running queued train/evaluate jobs.
#   docker build -f docker/worker.Dockerfile -t pmtrec-worker .                      # CPU torch
#   docker build -f docker/worker.Dockerfile -t pmtrec-worker:cuda \
#       --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .          # CUDA torch
# The CUDA wheels bring their CUDA libraries; the host needs an NVIDIA driver and the NVIDIA
# Container Toolkit (docker/docker-compose.cuda.yml requests the GPU).
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 pmtrec \
    && mkdir -p /bundles /data \
    && chown pmtrec:pmtrec /bundles /data
WORKDIR /app

# torch first, from the chosen index (CPU by default), so the trainer extra finds it installed.
RUN pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}"

COPY pyproject.toml README.md ./
COPY shared ./shared
COPY trainer ./trainer
RUN pip install ".[trainer,postgres]"


USER pmtrec
ENV PMTREC_BUNDLE_ROOT=/bundles \
    PMTREC_DATA_DIR=/data
# SIGTERM (docker stop) gives the running job back to the queue before exiting.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "trainer.worker"]
