"""The optional LLM: any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, vLLM, Ollama) through
langchain-openai, as a cascade behind the local models and, optionally, as the drafter.

    settings.py   LlmSettings: endpoint, model, key, timeouts, prices, budget, share
    client.py     the only caller of the endpoint: structured output, the one retry layer, usage
    prompts.py    versioned prompts; untrusted ticket text fenced; canary and leak check
    cascade.py    when to ask, which candidates, the validated answer
    drafter.py    grounded replies that cite retrieved articles
    budget.py     the daily token budget (SQLite under TRIAGE_HOME, or in memory for eval)
    usage.py      tokens and cost from each response's usage field
    embeddings.py an optional encoder through the same endpoint
    errors.py     the error tree (every error means: take the local path)

Nothing in this package imports langchain_openai at import time; `services.build_llm` does.
"""
