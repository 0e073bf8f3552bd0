"""The drafting model's transport: the openai client behind the core's `ChatModel`."""
