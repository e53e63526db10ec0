/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['pg', 'pino', 'backblaze-b2', 'bcryptjs'],
  typedRoutes: false,
};
export default nextConfig;
