"""Local, offline models: text cleaning, the sentence encoder, TF-IDF, the classifier and KB retrieval."""
