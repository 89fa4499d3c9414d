/** Environment variables that carry secrets: the only places credentials are read from (besides a prompt). */
export const SECRET_ENV = {
  cloudApiKey: 'CONFLUENT_CLOUD_API_KEY',
  cloudApiSecret: 'CONFLUENT_CLOUD_API_SECRET',
  mongoPassword: 'MONGODB_PASSWORD',
} as const;
