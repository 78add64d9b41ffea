# The API image: FastAPI, FAISS, onnxruntime, PostgreSQL driver. No torch, no trainer code:
# the service never imports them (tests/service/test_no_torch.py, tests/jobs/test_compose.py).
#   docker build -f docker/api.Dockerfile -t pmtrec-api .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 pmtrec \
    && mkdir -p /bundles \
    && chown pmtrec:pmtrec /bundles
WORKDIR /app

# The package with the service extra only (base dependencies + service + postgres).
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY service ./service
RUN pip install ".[service,postgres]"

# Migrations run at start-up (PMTREC_AUTO_MIGRATE); they ship inside shared/db/.

USER pmtrec
ENV PMTREC_BUNDLE_ROOT=/bundles
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["python", "-m", "service", "--host", "0.0.0.0", "--port", "8000"]
