import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, AUTH_CONFIG, type Configuration, DATABASE_CONFIG, MAIL_CONFIG } from './configuration';

/** Provides the namespaces of one app's configuration, loaded and validated once (`loadConfiguration`). */
@Global()
@Module({})
export class ConfigurationModule {
  static forRoot(configuration: Configuration): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: configuration.app },
      { provide: DATABASE_CONFIG, useValue: configuration.database },
      { provide: AUTH_CONFIG, useValue: configuration.auth },
      { provide: MAIL_CONFIG, useValue: configuration.mail },
    ];
    return { module: ConfigurationModule, providers, exports: providers };
  }
}
