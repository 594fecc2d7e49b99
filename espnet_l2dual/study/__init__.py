"""The study store: small committed records from which every report is rebuilt without models."""
