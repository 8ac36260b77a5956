/*
 * A stand-in for Stripe.js (https://js.stripe.com/v3/) served by the local Stripe emulator
 * (local/stripe_emulator.py) at {emulator}/js.stripe.com/v3/. This project's own code.
 *
 * It implements the part of Stripe.js that the booking page uses, against the emulator's API:
 *
 *   const stripe = Stripe(publishableKey, {stripeAccount});           // stripeAccount optional
 *   const elements = stripe.elements({clientSecret});
 *   const payment = elements.create('payment');
 *   payment.mount('#payment-element');                                 // selector or element
 *   payment.on('change', (event) => event.complete);                   // also event.empty
 *   const {error, paymentIntent} = await stripe.confirmPayment({
 *     elements, confirmParams: {return_url}, redirect: 'if_required'});
 *   const {error, paymentIntent} = await stripe.retrievePaymentIntent(clientSecret);
 *
 * The Payment Element is a card form in the page itself (Stripe's lives in an iframe): a
 * fieldset with four labelled inputs, classes prefixed `localstripe-` for the page's own CSS,
 * no inline style. Confirming sends one form-encoded request, as Stripe.js does:
 * POST /v1/payment_intents/{id}/confirm with key, client_secret, payment_method_data and
 * return_url (and _stripe_account for a connected account).
 */
(function () {
  'use strict';

  var SCRIPT_PATH = '/js.stripe.com/v3/';

  // The emulator's address: where this script was served from.
  var API_BASE = (function () {
    var script = document.currentScript;
    var url = new URL(script && script.src ? script.src : window.location.href);
    var path = url.pathname;
    var prefix = path.endsWith(SCRIPT_PATH) ? path.slice(0, -SCRIPT_PATH.length) : '';
    return url.origin + prefix;
  })();

  var mountCount = 0;

  function IntegrationError(message) {
    var error = new Error(message);
    error.name = 'IntegrationError';
    return error;
  }

  // ---- talking to the emulator ------------------------------------------------------------

  // {a: {b: 'c'}} -> [['a[b]', 'c']]: Stripe's form encoding.
  function formPairs(value, prefix, pairs) {
    if (value === undefined || value === null) {
      return pairs;
    }
    if (typeof value === 'object') {
      Object.keys(value).forEach(function (name) {
        formPairs(value[name], prefix ? prefix + '[' + name + ']' : name, pairs);
      });
    } else {
      pairs.push([prefix, String(value)]);
    }
    return pairs;
  }

  // {body} on a 2xx answer, else {error}: the API's own error object.
  async function call(method, path, params) {
    var form = new URLSearchParams(formPairs(params, '', []));
    var url = API_BASE + path;
    var init = {method: method, credentials: 'omit'};
    if (method === 'GET') {
      url += '?' + form.toString();
    } else {
      init.body = form; // application/x-www-form-urlencoded: no CORS preflight
    }
    var response;
    try {
      response = await fetch(url, init);
    } catch (reason) {
      return {error: {
        type: 'api_connection_error',
        message: 'Could not reach the local Stripe emulator at ' + API_BASE + '.',
      }};
    }
    var body = null;
    try {
      body = await response.json();
    } catch (reason) {
      body = null;
    }
    if (!response.ok || body === null) {
      var error = body && body.error ? body.error : {
        type: 'api_error',
        message: 'The local Stripe emulator answered ' + response.status + '.',
      };
      return {error: error};
    }
    return {body: body};
  }

  function intentId(clientSecret) {
    if (typeof clientSecret !== 'string' || clientSecret.indexOf('_secret_') < 1) {
      throw IntegrationError(
        'Invalid value for clientSecret: value should be a client secret of the form'
        + ' ${id}_secret_${secret}.');
    }
    return clientSecret.slice(0, clientSecret.indexOf('_secret_'));
  }

  // ---- reading the card -------------------------------------------------------------------

  function validationError(code, message) {
    return {type: 'validation_error', code: code, message: message};
  }

  function digitsOf(value) {
    return value.replace(/[\s-]/g, '');
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i += 1) {
      var digit = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) {
          digit -= 9;
        }
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  // "12 / 34", "12/34", "1234", "12/2034" -> {month, year} (year in full), or null.
  function parseExpiry(value) {
    var compact = value.replace(/\s/g, '');
    var month;
    var year;
    var parts = compact.split('/');
    if (parts.length === 2) {
      month = parts[0];
      year = parts[1];
    } else if (parts.length === 1 && /^\d{4}$|^\d{6}$/.test(compact)) {
      month = compact.slice(0, 2);
      year = compact.slice(2);
    } else {
      return null;
    }
    if (!/^\d{1,2}$/.test(month) || !/^(\d{2}|\d{4})$/.test(year)) {
      return null;
    }
    var fullYear = year.length === 2 ? 2000 + Number(year) : Number(year);
    return {month: Number(month), year: fullYear};
  }

  // The card as the API takes it, or the first field's error, in the order of the form.
  function readCard(values, now) {
    var number = digitsOf(values.number);
    if (!/^\d*$/.test(number)) {
      return {error: validationError('invalid_number', 'Your card number is invalid.'), field: 'number'};
    }
    if (number.length < 16) {
      return {error: validationError('incomplete_number', 'Your card number is incomplete.'), field: 'number'};
    }
    if (number.length > 19 || !luhn(number)) {
      return {error: validationError('invalid_number', 'Your card number is invalid.'), field: 'number'};
    }
    var expiry = parseExpiry(values.expiry);
    if (expiry === null) {
      return {error: validationError('incomplete_expiry', "Your card's expiration date is incomplete."), field: 'expiry'};
    }
    if (expiry.month < 1 || expiry.month > 12) {
      return {error: validationError('invalid_expiry_month', "Your card's expiration month is invalid."), field: 'expiry'};
    }
    var thisYear = now.getFullYear();
    if (expiry.year < thisYear) {
      return {error: validationError('invalid_expiry_year_past', "Your card's expiration year is in the past."), field: 'expiry'};
    }
    if (expiry.year === thisYear && expiry.month < now.getMonth() + 1) {
      return {error: validationError('invalid_expiry_month_past', "Your card's expiration date is in the past."), field: 'expiry'};
    }
    if (expiry.year >= 2100) {
      return {error: validationError('invalid_expiry_year', "Your card's expiration year is invalid."), field: 'expiry'};
    }
    var cvc = values.cvc.trim();
    if (!/^\d{3,4}$/.test(cvc)) {
      return {error: validationError('incomplete_cvc', "Your card's security code is incomplete."), field: 'cvc'};
    }
    var card = {number: number, exp_month: expiry.month, exp_year: expiry.year, cvc: cvc};
    var postalCode = values.postalCode.trim();
    return {card: card, postalCode: postalCode || null};
  }

  // ---- the Payment Element ----------------------------------------------------------------

  var FIELDS = [
    // name, id suffix, label, input attributes
    ['number', 'number', 'Card number',
      {inputmode: 'numeric', autocomplete: 'cc-number', placeholder: '1234 1234 1234 1234',
        maxlength: '23', 'aria-required': 'true'}],
    ['expiry', 'expiry', 'Expiry (MM / YY)',
      {inputmode: 'numeric', autocomplete: 'cc-exp', placeholder: 'MM / YY', maxlength: '9',
        'aria-required': 'true'}],
    ['cvc', 'cvc', 'CVC',
      {inputmode: 'numeric', autocomplete: 'cc-csc', placeholder: '123', maxlength: '4',
        'aria-required': 'true'}],
    ['postalCode', 'postal-code', 'Postal code',
      {autocomplete: 'postal-code', maxlength: '10'}],
  ];

  function PaymentElement(elements) {
    this._elements = elements;
    this._handlers = {};
    this._container = null;
    this._fieldset = null;
    this._inputs = {};
  }

  PaymentElement.prototype.mount = function (target) {
    var container = typeof target === 'string' ? document.querySelector(target) : target;
    if (!container || typeof container.appendChild !== 'function') {
      throw IntegrationError(
        'The selector you specified (' + String(target) + ') applies to no DOM elements that'
        + ' are currently on the page.');
    }
    if (this._fieldset) {
      this.unmount();
    }
    mountCount += 1;
    var prefix = 'localstripe-' + mountCount + '-';
    var fieldset = document.createElement('fieldset');
    fieldset.className = 'localstripe-payment-element';
    var legend = document.createElement('legend');
    legend.className = 'localstripe-legend';
    legend.textContent = 'Card (local Stripe emulator)';
    fieldset.appendChild(legend);
    var self = this;
    FIELDS.forEach(function (field) {
      var name = field[0];
      var wrapper = document.createElement('div');
      wrapper.className = 'localstripe-field localstripe-field-' + field[1];
      var label = document.createElement('label');
      label.className = 'localstripe-label';
      label.htmlFor = prefix + field[1];
      label.textContent = field[2];
      var input = document.createElement('input');
      input.type = 'text';
      input.id = prefix + field[1];
      input.className = 'localstripe-input';
      input.spellcheck = false;
      Object.keys(field[3]).forEach(function (attribute) {
        input.setAttribute(attribute, field[3][attribute]);
      });
      input.addEventListener('input', function () {
        input.removeAttribute('aria-invalid');
        input.classList.remove('localstripe-invalid');
        self._emit('change', self._changeEvent());
      });
      wrapper.appendChild(label);
      wrapper.appendChild(input);
      fieldset.appendChild(wrapper);
      self._inputs[name] = input;
    });
    fieldset.addEventListener('focusin', function (event) {
      if (!fieldset.contains(event.relatedTarget)) {
        self._emit('focus', {elementType: 'payment'});
      }
    });
    fieldset.addEventListener('focusout', function (event) {
      if (!fieldset.contains(event.relatedTarget)) {
        self._emit('blur', {elementType: 'payment'});
      }
    });
    container.appendChild(fieldset);
    this._container = container;
    this._fieldset = fieldset;
    setTimeout(function () {
      self._emit('ready', {elementType: 'payment'});
    }, 0);
    return this;
  };

  PaymentElement.prototype.unmount = function () {
    if (this._fieldset && this._fieldset.parentNode) {
      this._fieldset.parentNode.removeChild(this._fieldset);
    }
    this._fieldset = null;
    this._container = null;
    this._inputs = {};
    return this;
  };

  PaymentElement.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
    if (this._elements._payment === this) {
      this._elements._payment = null;
    }
  };

  PaymentElement.prototype.on = function (type, handler) {
    (this._handlers[type] = this._handlers[type] || []).push(handler);
    return this;
  };

  PaymentElement.prototype.once = function (type, handler) {
    var self = this;
    function once(event) {
      self.off(type, once);
      handler(event);
    }
    return this.on(type, once);
  };

  PaymentElement.prototype.off = function (type, handler) {
    var handlers = this._handlers[type] || [];
    this._handlers[type] = handler ? handlers.filter(function (h) { return h !== handler; }) : [];
    return this;
  };

  PaymentElement.prototype.focus = function () {
    if (this._inputs.number) {
      this._inputs.number.focus();
    }
  };

  PaymentElement.prototype.blur = function () {
    var active = document.activeElement;
    if (this._fieldset && this._fieldset.contains(active)) {
      active.blur();
    }
  };

  PaymentElement.prototype.clear = function () {
    var inputs = this._inputs;
    Object.keys(inputs).forEach(function (name) {
      inputs[name].value = '';
    });
    this._emit('change', this._changeEvent());
  };

  PaymentElement.prototype.update = function () {
    return this;
  };

  PaymentElement.prototype._emit = function (type, event) {
    (this._handlers[type] || []).slice().forEach(function (handler) {
      handler(event);
    });
  };

  PaymentElement.prototype._values = function () {
    var inputs = this._inputs;
    var values = {};
    FIELDS.forEach(function (field) {
      values[field[0]] = inputs[field[0]] ? inputs[field[0]].value : '';
    });
    return values;
  };

  PaymentElement.prototype._changeEvent = function () {
    var values = this._values();
    var empty = Object.keys(values).every(function (name) { return values[name].trim() === ''; });
    return {
      elementType: 'payment',
      empty: empty,
      complete: !readCard(values, new Date()).error,
      collapsed: false,
      value: {type: 'card'},
    };
  };

  // The card, or the error Stripe.js would give; the invalid field is marked for the page's CSS
  // (aria-invalid, class localstripe-invalid). The message is the page's to show.
  PaymentElement.prototype._read = function () {
    if (!this._fieldset) {
      throw IntegrationError('The Payment Element is not mounted.');
    }
    var read = readCard(this._values(), new Date());
    if (read.error) {
      var input = this._inputs[read.field];
      input.setAttribute('aria-invalid', 'true');
      input.classList.add('localstripe-invalid');
    }
    return read;
  };

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._clientSecret = options && options.clientSecret;
    this._payment = null;
  }

  Elements.prototype.create = function (type, options) {
    if (type !== 'payment') {
      throw IntegrationError(
        'The local Stripe emulator\'s Stripe.js supports only the Payment Element'
        + " (elements.create('payment')), not '" + String(type) + "'.");
    }
    if (this._payment) {
      throw IntegrationError('Can only create one Element of type payment.');
    }
    this._payment = new PaymentElement(this);
    return this._payment;
  };

  Elements.prototype.getElement = function (type) {
    return type === 'payment' ? this._payment : null;
  };

  Elements.prototype.update = function (options) {
    if (options && options.clientSecret) {
      this._clientSecret = options.clientSecret;
    }
  };

  Elements.prototype.fetchUpdates = async function () {
    return {};
  };

  Elements.prototype.submit = async function () {
    if (!this._payment) {
      throw IntegrationError('elements.submit(): no Payment Element was created.');
    }
    var read = this._payment._read();
    return read.error ? {error: read.error} : {};
  };

  // ---- 3-D Secure -------------------------------------------------------------------------

  // localstripe's challenge: a modal dialog with two buttons, as Stripe's test page has.
  function askForAuthentication() {
    return new Promise(function (resolve) {
      mountCount += 1;
      var titleId = 'localstripe-' + mountCount + '-3ds-title';
      var dialog = document.createElement('dialog');
      dialog.className = 'localstripe-3ds';
      dialog.setAttribute('aria-labelledby', titleId);
      var title = document.createElement('h2');
      title.className = 'localstripe-3ds-title';
      title.id = titleId;
      title.textContent = '3-D Secure (local Stripe emulator)';
      var text = document.createElement('p');
      text.className = 'localstripe-3ds-text';
      text.textContent = 'Your bank asks you to confirm this payment.';
      var actions = document.createElement('div');
      actions.className = 'localstripe-3ds-actions';
      var settled = false;
      function finish(success) {
        if (settled) {
          return;
        }
        settled = true;
        if (dialog.open) {
          dialog.close();
        }
        dialog.remove();
        resolve(success);
      }
      [['Complete authentication', true], ['Fail authentication', false]].forEach(function (b) {
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'localstripe-button localstripe-3ds-' + (b[1] ? 'complete' : 'fail');
        button.textContent = b[0];
        button.addEventListener('click', function () { finish(b[1]); });
        actions.appendChild(button);
      });
      dialog.addEventListener('cancel', function () { finish(false); });
      dialog.appendChild(title);
      dialog.appendChild(text);
      dialog.appendChild(actions);
      document.body.appendChild(dialog);
      dialog.showModal();
    });
  }

  // ---- Stripe() ---------------------------------------------------------------------------

  function StripeInstance(publishableKey, options) {
    this._key = publishableKey;
    this._account = options && options.stripeAccount ? String(options.stripeAccount) : null;
  }

  StripeInstance.prototype._params = function (clientSecret, more) {
    var params = {key: this._key, client_secret: clientSecret};
    if (this._account) {
      params._stripe_account = this._account;
    }
    return Object.assign(params, more || {});
  };

  StripeInstance.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };

  StripeInstance.prototype.retrievePaymentIntent = async function (clientSecret) {
    var path = '/v1/payment_intents/' + encodeURIComponent(intentId(clientSecret));
    var answer = await call('GET', path, this._params(clientSecret));
    return answer.error ? {error: answer.error} : {paymentIntent: answer.body};
  };

  StripeInstance.prototype.confirmPayment = async function (options) {
    options = options || {};
    var elements = options.elements;
    var confirmParams = options.confirmParams || {};
    var redirect = options.redirect || 'always';
    if (!elements || !(elements instanceof Elements)) {
      throw IntegrationError('stripe.confirmPayment(): the `elements` argument is required.');
    }
    var clientSecret = options.clientSecret || elements._clientSecret;
    var id = intentId(clientSecret);
    var returnUrl = confirmParams.return_url;
    if (redirect !== 'if_required' && !returnUrl) {
      throw IntegrationError(
        'stripe.confirmPayment(): the `confirmParams.return_url` argument is required unless'
        + " passing `redirect: 'if_required'`");
    }
    if (!elements._payment) {
      throw IntegrationError('stripe.confirmPayment(): no Payment Element was created.');
    }
    var read = elements._payment._read();
    if (read.error) {
      return {error: read.error};
    }
    var data = {type: 'card', card: read.card};
    if (read.postalCode) {
      data.billing_details = {address: {postal_code: read.postalCode}};
    }
    var path = '/v1/payment_intents/' + encodeURIComponent(id);
    var answer = await call('POST', path + '/confirm', this._params(clientSecret, {
      payment_method_data: data,
      return_url: returnUrl,
    }));
    if (answer.error) {
      return {error: answer.error};
    }
    var intent = answer.body;
    if (intent.status === 'requires_action') {
      var success = await askForAuthentication();
      answer = await call('POST', path + '/_authenticate', this._params(clientSecret, {
        success: success ? 'true' : 'false',
      }));
      if (answer.error) {
        return {error: answer.error};
      }
      intent = answer.body;
      if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
        return {error: Object.assign(
          {type: 'invalid_request_error'}, intent.last_payment_error, {payment_intent: intent})};
      }
    }
    if (redirect === 'always') {
      var target = new URL(returnUrl, window.location.href);
      target.searchParams.set('payment_intent', intent.id);
      target.searchParams.set('payment_intent_client_secret', clientSecret);
      target.searchParams.set('redirect_status', intent.status);
      window.location.assign(target.toString());
      return new Promise(function () {}); // Stripe.js: the page leaves before it resolves
    }
    return {paymentIntent: intent};
  };

  function Stripe(publishableKey, options) {
    if (typeof publishableKey !== 'string' || publishableKey === '') {
      throw IntegrationError('Please call Stripe() with your publishable key. You used an empty string.');
    }
    if (publishableKey.indexOf('sk_') === 0) {
      throw IntegrationError('You should not use your secret key with Stripe.js. Please pass a publishable key instead.');
    }
    return new StripeInstance(publishableKey, options);
  }

  Stripe.version = 3;
  Stripe.localEmulator = API_BASE;
  window.Stripe = Stripe;
})();
